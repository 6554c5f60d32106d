"""Who is asking: sign-in with Entra ID (views), token checks (entra), server-side sessions."""
