"""Applications: one per pilot model or group of models; they use blocks only through their
service functions and DTOs, never another application's models."""
