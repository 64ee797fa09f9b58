"""JOSE as the registry speaks it (RFC 7515, 7517, 7518, 7638, 8037, 8725):
the one algorithm allow-list and credential `typ` (algorithms), key intake
and thumbprints (jwk), strict parsing of a credential (tokens), signature
checks (signature) and private-key files (key_files). Nothing here reads the
database."""
