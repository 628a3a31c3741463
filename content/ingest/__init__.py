"""Loading content as centres have it: feeds, documents in legacy encodings, recordings and images."""
