token_ttl = "768h"
token_max_ttl = "8760h"
