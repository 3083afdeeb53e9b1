echo "$CR_PAT" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin
