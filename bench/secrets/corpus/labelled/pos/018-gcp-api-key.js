const firebaseConfig = { apiKey: "AIza6HjllQrng9LM58iAmwjoSTKiVZ-Zzjx0oMN" };
