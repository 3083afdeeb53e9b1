	.token_size = MT7915_TOKEN_SIZE,
