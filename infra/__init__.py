"""The AWS deployment of the war room: a CDK app (`python -m infra.app`)."""

import os

# jsii prints a banner on Node 20 when aws_cdk is first imported; every entry point
# (the CDK app, the layer build, the infrastructure tests) imports this package first.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
