"""Front-desk verification: clinic check-in and the hospital self-service kiosk (models 6, 7),
the notary (model 8) and conditional businesses (model 16)."""
