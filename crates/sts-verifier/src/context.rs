//! The flat authorizer context that carries a verified caller from the authorizer to the backend.
