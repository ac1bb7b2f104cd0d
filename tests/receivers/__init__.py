"""Real consumers on loopback, for the delivery tests (and the end-to-end tests that reuse them).

* :mod:`.server`: a threaded HTTP/1.1 server on 127.0.0.1 and a free port, routing to handlers,
  with scripted failures (status codes, slow answers).
* :mod:`.consumers`: handlers that check deliveries the way real subscribers do: a webhook
  verifying every JWT with PyJWT's ``PyJWKClient`` against a JWKS URL, an IMS Caliper endpoint
  checking its Bearer token, a JWKS endpoint.
* :mod:`.sqs`: moto's SQS in server mode and a boto3 reader.
"""
