TOKEN_TYPE_BEARER = "Bearer"
GRANT_TYPE = "client_credentials"
