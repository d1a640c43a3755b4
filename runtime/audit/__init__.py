"""The audit log: one append-only row per staff or API-key mutation, written in the mutation's
own transaction (``recorder``), read by admins over GraphQL (``resolvers``)."""
