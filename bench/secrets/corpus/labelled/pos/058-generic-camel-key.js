const config = { signingKey: "UuaOaDncMLWV12TfhJv27ghWC4rFlIb9" };
