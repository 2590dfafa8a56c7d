"""Driving schools and test centres (model 17): enrolment with a verified card, verification at
each training session and at the test, impersonation detection."""
