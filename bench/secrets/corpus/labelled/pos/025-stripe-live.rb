Stripe.api_key = "sk_live_OMxUHQocOUnovNsrl66wcFde"
