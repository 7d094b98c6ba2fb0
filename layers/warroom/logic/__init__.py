"""Domain logic: permission checks, validation, and the operations of the service."""
