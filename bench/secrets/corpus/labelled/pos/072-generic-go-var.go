var serviceToken string = "HaPYQMVeTVB5NkhD1IBM0IFNn9ZxaFpI"
