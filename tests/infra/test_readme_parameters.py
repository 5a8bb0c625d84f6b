"""The README's parameter table lists every parameter of template.yaml, and nothing the template lacks."""

import re

import yaml

from tests.cold import ROOT


class _Loader(yaml.SafeLoader):
    pass


# CloudFormation's short-form intrinsics (!Ref, !If, ...): read as plain values, only the keys matter here
_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_every_template_parameter_is_in_the_readme_table():
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| parameter | default | sets |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| ([^|]+) \|", table, re.M))
    names = {name for cell in documented for name in re.findall(r"`(\w+)`", cell)}
    assert names == set(template["Parameters"])
