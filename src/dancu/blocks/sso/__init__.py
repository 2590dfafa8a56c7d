"""The OpenID Connect provider of the city (model 24), on django-oauth-toolkit: relying-party
registration, consent, pairwise subjects, acr and step-up, claims limited per relying party."""
