"""Police alert list: entries placed by police units, screened on every successful verification."""
