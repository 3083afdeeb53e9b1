private const string ApiSecret = "Pbv8CzUPXPtDFQ36gME7TumIHy8mLJsL";
