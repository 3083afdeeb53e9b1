private static final String TOKEN_HEADER = "X-Auth-Token";
