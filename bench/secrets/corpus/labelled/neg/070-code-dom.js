const passwordField = document.getElementById("password-confirmation");
