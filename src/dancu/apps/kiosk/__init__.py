"""Self-service kiosks of one-stop offices (model 2) and the evaluation dashboard of online public
services (models 2 and 3). See docs/public-services.md, section "Kiosk"."""
