"""Run with the SAM CLI's Python (.venv-sam): translate template.yaml as CloudFormation will see it.

    .venv-sam/bin/python tests/infra/translate_template.py template.yaml Key=Value ...

Prints the translated template as JSON, and cfn-lint's findings on it under "lint" (empty: clean). SAM's
own `sam validate --lint` checks the template before translation, which misses errors that only the
translation raises for a given parameter value.
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


def main() -> None:
    template = yaml_parse(open(sys.argv[1]).read())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts-bucket/code.zip"
    parameters = dict(arg.split("=", 1) for arg in sys.argv[2:])
    translated = transform(template, parameters, NoManagedPolicies())
    from cfnlint.api import ManualArgs, lint

    config = ManualArgs(regions=["us-east-1"])
    findings = [f"{m.rule.id} {m.message}" for m in lint(json.dumps(translated), config=config)]
    print(json.dumps({"template": translated, "lint": findings}, default=str))


if __name__ == "__main__":
    main()
