DEPLOY_TOKEN ::= "vrlNDwjMHH8FolZOHlxr8mufhipWWyiI"
