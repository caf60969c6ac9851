"""Writes operations.json: for each AWS CLI command that why403 prints, its options and the
required ones, read from the AWS CLI's own command tables (its service models with its
customizations, e.g. `s3api put-object --no-bucket-key-enabled` and the `s3 cp` options).

Run with a Python environment that has the AWS CLI v1 package (`pip install awscli`):

    python3 -m venv /tmp/awscli && /tmp/awscli/bin/pip install awscli
    /tmp/awscli/bin/python tests/aws-cli/extract.py > tests/aws-cli/operations.json

`crates/bundle/tests/howto.rs` checks every command why403 prints against this file.
"""

import json
import sys

import awscli
import botocore
from awscli.clidriver import create_clidriver

COMMANDS = {
    "s3api": [
        "put-bucket-policy", "delete-bucket-policy", "put-bucket-acl", "put-public-access-block",
        "put-bucket-encryption", "put-object", "create-multipart-upload", "create-session",
    ],
    "s3control": [
        "put-public-access-block", "put-access-point-policy",
        "put-multi-region-access-point-policy",
    ],
    "iam": [
        "put-user-policy", "put-role-policy", "put-group-policy", "create-policy-version",
        "create-policy", "delete-user-policy", "delete-role-policy", "delete-group-policy",
        "detach-user-policy", "detach-role-policy", "detach-group-policy",
        "list-policy-versions", "delete-policy-version",
    ],
    "kms": ["put-key-policy", "enable-key", "cancel-key-deletion", "get-parameters-for-import"],
    "organizations": ["update-policy", "create-policy", "attach-policy", "detach-policy"],
    "ec2": ["modify-vpc-endpoint"],
    "sts": ["assume-role"],
    "s3": ["cp"],
}

# Options every command takes, not listed per command.
GLOBAL = {"cli-input-json", "generate-cli-skeleton", "cli-input-yaml"}


def main():
    driver = create_clidriver()
    table = driver._get_command_table()
    out = {
        "source": f"AWS CLI {awscli.__version__} (botocore {botocore.__version__}) command tables",
        "commands": {},
    }
    for service, commands in COMMANDS.items():
        sub = table[service]
        sub_table = sub._get_command_table() if hasattr(sub, "_get_command_table") else sub.subcommand_table
        for name in commands:
            cmd = sub_table[name]
            if hasattr(cmd, "arg_table"):
                args = {k: v for k, v in cmd.arg_table.items() if k not in GLOBAL}
                options = sorted("--" + k for k in args)
                required = sorted("--" + k for k, v in args.items() if getattr(v, "required", False))
            else:
                # The `s3` commands declare a plain table; their positional paths are not options.
                options = sorted("--" + a["name"] for a in cmd.ARG_TABLE if not a.get("positional_arg"))
                required = []
            out["commands"][f"{service} {name}"] = {"options": options, "required": required}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


main()
