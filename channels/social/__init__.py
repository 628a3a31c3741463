"""Social-network outlets: a Facebook Page, a Zalo Official Account, a Viber channel."""
