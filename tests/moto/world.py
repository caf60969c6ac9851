#!/usr/bin/env python3
"""Builds why403's test worlds in a running moto server (moto[server] 5.2.5, boto3).

    python3 tests/moto/world.py --endpoint http://127.0.0.1:5000 --tag abc123 \
        [--worlds identity,kms,...] [--auth] [--wait 30]

Prints one JSON object on standard output: the endpoint, the management account and, per
world, the bucket, the object key, the account, the uploader (with its access key) and what a
diagnosis must say. Every name carries the tag, so several runs (and several test binaries)
can share one server without resetting it. The Rust tests (tests/moto/support.rs) run this
script and read its output.

Worlds (moto's default account 123456789012 unless said otherwise):

  identity       the uploader's only policy allows s3:PutObject on the bucket ARN instead of
                 bucket/*                               -> identity-policy-missing-put-object
  kms            default encryption SSE-KMS with a key whose key policy names only an admin
                 user (not the account, not the uploader) -> kms-key-policy-missing-generate-data-key
  bucket-policy  the bucket policy denies PutObject without SSE-KMS; the upload sends none
                                                        -> bucket-policy-explicit-deny
  acl            Object Ownership ObjectWriter (ACLs on) and a bucket ACL without WRITE for the
                 owner                                  -> bucket-acl-missing-write
  scp            a member account in an OU whose SCP denies s3:*; the organization is read with
                 the management account's credentials   -> scp-denies-s3
  allowed        the uploader may upload                -> allowed
  truth          for moto's own enforcement (--auth): a plain bucket, an auditor that may read
                 everything, and uploaders whose identity policies allow or deny
  partial        for --auth: a bucket with SSE-KMS default encryption and one with a Deny bucket
                 policy, an uploader, and a reader that may read S3 but not IAM or KMS
  paths          for --auth: a user (inline and managed policies, a group with its own) and a
                 role (inline, managed and boundary policies), a reader that may read IAM, and a reader refused the targeted
                 IAM reads but allowed iam:GetAccountAuthorizationDetails (the fallback)
  scale          an account of its own with --roles roles and --policies customer managed
                 policies (default 10 and 10): one role has an inline policy, an attached policy
                 and a boundary, the others are filler made with unsigned requests (fast enough
                 for thousands); a bucket, and a reader in that account

--auth turns moto's enforcement on once everything is built (POST /moto-api/reset-auth "0"):
from then on every request must be signed with one of the access keys created here. It is
process-wide: use it only on a server of your own.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account: dummy credentials land here
KEY = "uploads/report.csv"
ALL_SHARED = ["identity", "kms", "bucket-policy", "acl", "scp", "allowed"]


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


class Moto:
    def __init__(self, endpoint: str):
        self.ep = endpoint.rstrip("/")

    def post(self, path: str, body: bytes = b"") -> str:
        # Not form-encoded, or Flask swallows the body (reset-auth then answers 500).
        req = urllib.request.Request(self.ep + path, data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(self.ep + "/moto-api/", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                if time.monotonic() > deadline:
                    sys.exit(f"world.py: moto at {self.ep} did not answer within {seconds} s: {e}")
                time.sleep(0.1)

    def client(self, service: str, account: str | None = None,
               key: tuple[str, str] = ("testing", "testing")):
        cfg = Config(retries={"max_attempts": 2},
                     s3={"addressing_style": "path"} if service == "s3" else None)
        c = boto3.client(service, endpoint_url=self.ep, region_name=REGION,
                         aws_access_key_id=key[0], aws_secret_access_key=key[1], config=cfg)
        if account:
            # moto runs a request in the account this header names (then the key's owner's).
            def add_account_header(request, **_):
                request.headers["x-moto-account-id"] = account
            c.meta.events.register("before-sign", add_account_header)
        return c


class Ctx:
    def __init__(self, m: Moto, tag: str):
        self.m = m
        self.tag = tag

    def name(self, what: str) -> str:
        return f"why403-{what}-{self.tag}"


def make_user(iam, name: str, inline: dict[str, str] | None = None,
              managed: list[str] | None = None, groups: list[str] | None = None,
              **create) -> dict:
    u = iam.create_user(UserName=name, **create)["User"]
    for pname, pdoc in (inline or {}).items():
        iam.put_user_policy(UserName=name, PolicyName=pname, PolicyDocument=pdoc)
    for arn in managed or []:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    for g in groups or []:
        iam.add_user_to_group(GroupName=g, UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return {"name": name, "arn": u["Arn"], "id": u["UserId"],
            "access_key_id": k["AccessKeyId"], "secret_access_key": k["SecretAccessKey"]}


def put_uploader(ctx: Ctx, iam, what: str, bucket: str, extra: list[dict] | None = None) -> dict:
    return make_user(iam, ctx.name(f"{what}-uploader"), inline={"put-uploads": doc(
        {"Sid": "PutUploads", **allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")}, *(extra or []))})


def world(s3, bucket: str, account: str, uploader: dict, cause: str | None,
          verdict: str = "denied", identifiers: list[str] | None = None,
          key_parts: list[str] | None = None, **more) -> dict:
    """A world's description. `identifiers` are what `capture --redact` must replace.

    The object key holds the account id, the uploader's name and `key_parts` (ids of the
    world), which redaction must replace there too. moto's user ids are not AWS-shaped
    (20 lower-case letters and digits, not AIDA...): redaction must replace them all the same.
    """
    canonical = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    key = "/".join(["uploads", account, uploader["name"], *(key_parts or []), "report.csv"])
    w = {"bucket": bucket, "key": key, "account": account, "uploader": uploader,
         "expect": {"verdict": verdict, "cause": cause},
         "identifiers": [account, uploader["name"], uploader["id"], canonical, *(identifiers or [])]}
    w.update(more)
    return w


# ---------------------------------------------------------------- the five causes and a control

def w_identity(ctx: Ctx) -> dict:
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    bucket = ctx.name("identity")
    s3.create_bucket(Bucket=bucket)
    # The classic mistake: the bucket's ARN, not its objects'.
    u = make_user(iam, ctx.name("identity-uploader"), inline={"put-uploads": doc(
        {"Sid": "PutUploads", **allow("s3:PutObject", f"arn:aws:s3:::{bucket}")})})
    return world(s3, bucket, DEFAULT_ACCOUNT, u, "identity-policy-missing-put-object")


def w_kms(ctx: Ctx) -> dict:
    iam, s3, kms = ctx.m.client("iam"), ctx.m.client("s3"), ctx.m.client("kms")
    bucket = ctx.name("kms")
    admin = make_user(iam, ctx.name("kms-admin"))
    key = kms.create_key(
        Description=f"why403 test key {ctx.tag}",
        Policy=doc({"Sid": "KeyAdminOnly", "Effect": "Allow", "Principal": {"AWS": admin["arn"]},
                    "Action": "kms:*", "Resource": "*"}),
        BypassPolicyLockoutSafetyCheck=True,
    )["KeyMetadata"]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
        "BucketKeyEnabled": False}]})
    # IAM allows the key too, but the key policy does not let IAM policies count.
    u = put_uploader(ctx, iam, "kms", bucket, [allow(["kms:GenerateDataKey", "kms:Decrypt"], key["Arn"])])
    return world(s3, bucket, DEFAULT_ACCOUNT, u, "kms-key-policy-missing-generate-data-key",
                 identifiers=[admin["name"], key["KeyId"]], key_parts=[key["KeyId"]],
                 kms_key_arn=key["Arn"])


def w_bucket_policy(ctx: Ctx) -> dict:
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    bucket = ctx.name("bucket-policy")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(
        {"Sid": "DenyNotSseKms", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}))
    u = put_uploader(ctx, iam, "bucket-policy", bucket)
    return world(s3, bucket, DEFAULT_ACCOUNT, u, "bucket-policy-explicit-deny")


def w_acl(ctx: Ctx) -> dict:
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    bucket = ctx.name("acl")
    s3.create_bucket(Bucket=bucket, ObjectOwnership="ObjectWriter")
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    grantee = {"Type": "CanonicalUser", "ID": owner["ID"]}
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": owner["ID"]},
        "Grants": [{"Grantee": grantee, "Permission": p} for p in ("READ", "READ_ACP", "WRITE_ACP")]})
    u = put_uploader(ctx, iam, "acl", bucket)
    return world(s3, bucket, DEFAULT_ACCOUNT, u, "bucket-acl-missing-write")


def organization(ctx: Ctx) -> tuple[dict, str]:
    """The management account's organization (made once per server), SCPs enabled; its root."""
    org = ctx.m.client("organizations")
    try:
        o = org.describe_organization()["Organization"]
    except ClientError as e:
        if e.response["Error"].get("Code") != "AWSOrganizationsNotInUseException":
            raise
        try:
            o = org.create_organization(FeatureSet="ALL")["Organization"]
        except ClientError as e2:  # another seeder made it meanwhile
            if e2.response["Error"].get("Code") != "AlreadyInOrganizationException":
                raise
            o = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]
    enabled = {t["Type"] for t in root.get("PolicyTypes", []) if t.get("Status") == "ENABLED"}
    if "SERVICE_CONTROL_POLICY" not in enabled:
        try:
            org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
        except ClientError as e:
            if e.response["Error"].get("Code") != "PolicyTypeAlreadyEnabledException":
                raise
    return o, root["Id"]


def w_scp(ctx: Ctx) -> dict:
    o, root = organization(ctx)
    org = ctx.m.client("organizations")
    ou = org.create_organizational_unit(ParentId=root, Name=ctx.name("ou"))["OrganizationalUnit"]["Id"]
    member = org.create_account(Email=f"{ctx.name('scp')}@example.com",
                                AccountName=ctx.name("scp"))["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    scp = org.create_policy(
        Name=ctx.name("deny-s3"), Type="SERVICE_CONTROL_POLICY", Description="No S3 here",
        Content=doc({"Sid": "DenyS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=ou)

    iam, s3 = ctx.m.client("iam", account=member), ctx.m.client("s3", account=member)
    bucket = ctx.name("scp")
    s3.create_bucket(Bucket=bucket)
    u = put_uploader(ctx, iam, "scp", bucket)
    # The management account's (dummy) credentials read the organization: --org-profile.
    return world(s3, bucket, member, u, "scp-denies-s3",
                 identifiers=[ou, ctx.name("ou"), scp, o["Id"], root, o["MasterAccountId"]],
                 org_reader={"access_key_id": "testing", "secret_access_key": "testing"})


def w_allowed(ctx: Ctx) -> dict:
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    bucket = ctx.name("allowed")
    s3.create_bucket(Bucket=bucket)
    u = put_uploader(ctx, iam, "allowed", bucket)
    return world(s3, bucket, DEFAULT_ACCOUNT, u, None, verdict="allowed")


# ---------------------------------------------------------------- worlds for moto's enforcement

READS = doc(allow([
    "iam:Get*", "iam:List*", "s3:Get*", "s3:List*", "s3:Head*", "kms:Describe*", "kms:Get*",
    "kms:List*", "organizations:Describe*", "organizations:List*"], "*"))


# The targeted reads of a caller's policies, refused: only iam:GetAccountAuthorizationDetails
# (and GetPolicy, GetPolicyVersion) can read them.
NO_TARGETED = doc({"Effect": "Deny", "Action": [f"iam:{a}" for a in (
    "GetUser", "GetRole", "ListUserPolicies", "ListAttachedUserPolicies", "ListGroupsForUser",
    "ListRolePolicies", "ListAttachedRolePolicies", "GetUserPolicy", "GetRolePolicy",
    "ListGroupPolicies", "ListAttachedGroupPolicies", "GetGroupPolicy")], "Resource": "*"})


def w_truth(ctx: Ctx) -> dict:
    """Uploaders whose fate moto decides faithfully (moto enforces identity policies faithfully for S3, the rest only in part)."""
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    bucket = ctx.name("truth")
    other = ctx.name("truth-other")
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=other)
    objects = f"arn:aws:s3:::{bucket}/*"
    group = ctx.name("truth-uploaders")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="group-put", PolicyDocument=doc(
        allow("s3:PutObject", objects)))
    managed = iam.create_policy(PolicyName=ctx.name("truth-put"), PolicyDocument=doc(
        allow("s3:PutObject", objects)))["Policy"]["Arn"]
    users = {
        "inline-allow": make_user(iam, ctx.name("t-inline"), inline={"p": doc(allow("s3:PutObject", objects))}),
        "group-allow": make_user(iam, ctx.name("t-group"), groups=[group]),
        "managed-allow": make_user(iam, ctx.name("t-managed"), managed=[managed]),
        "wildcard-allow": make_user(iam, ctx.name("t-wild"), inline={"p": doc(
            allow("s3:Put*", f"arn:aws:s3:::{ctx.name('truth')}*/*"))}),
        "bucket-arn-only": make_user(iam, ctx.name("t-bucketarn"), inline={"p": doc(
            allow("s3:PutObject", f"arn:aws:s3:::{bucket}"))}),
        "other-bucket": make_user(iam, ctx.name("t-other"), inline={"p": doc(
            allow("s3:PutObject", f"arn:aws:s3:::{other}/*"))}),
        "no-policy": make_user(iam, ctx.name("t-none")),
        "explicit-deny": make_user(iam, ctx.name("t-deny"), inline={"p": doc(
            allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:PutObject", "Resource": objects})}),
    }
    auditor = make_user(iam, ctx.name("t-auditor"), inline={"reads": READS})
    return {"bucket": bucket, "key": KEY, "account": DEFAULT_ACCOUNT, "users": users, "auditor": auditor}


def w_partial(ctx: Ctx) -> dict:
    iam, s3, kms = ctx.m.client("iam"), ctx.m.client("s3"), ctx.m.client("kms")
    enc = ctx.name("partial-kms")
    denied = ctx.name("partial-deny")
    key = kms.create_key(Description=f"why403 partial {ctx.tag}")["KeyMetadata"]
    s3.create_bucket(Bucket=enc)
    s3.put_bucket_encryption(Bucket=enc, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    s3.create_bucket(Bucket=denied)
    s3.put_bucket_policy(Bucket=denied, Policy=doc(
        {"Sid": "DenyAllUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{denied}/*"}))
    uploader = make_user(iam, ctx.name("p-uploader"), inline={"p": doc(allow("s3:PutObject", [
        f"arn:aws:s3:::{enc}/*", f"arn:aws:s3:::{denied}/*"]), allow(["kms:GenerateDataKey", "kms:Decrypt"], key["Arn"]))})
    # Reads S3's configuration, nothing of IAM, KMS or Organizations.
    reader = make_user(iam, ctx.name("p-reader"), inline={"s3-reads": doc(allow(
        ["s3:Get*", "s3:List*", "s3:Head*"], "*"))})
    return {"kms_bucket": enc, "deny_bucket": denied, "key": KEY, "account": DEFAULT_ACCOUNT,
            "kms_key_arn": key["Arn"], "uploader": uploader, "reader": reader}


def w_triage(ctx: Ctx) -> dict:
    """Twenty buckets and five uploaders of different fates: `why403 triage --live` diagnoses
    the hundred (uploader, bucket) groups of a day of refusals in one session."""
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    buckets = [ctx.name(f"tri{i:02d}") for i in range(20)]
    for b in buckets:
        s3.create_bucket(Bucket=b)
    objects = [f"arn:aws:s3:::{b}/*" for b in buckets]
    users = {
        "allowed": make_user(iam, ctx.name("tr-ok"), inline={"p": doc(allow("s3:PutObject", objects))}),
        "bucket-arn-only": make_user(iam, ctx.name("tr-arn"), inline={"p": doc(
            allow("s3:PutObject", [f"arn:aws:s3:::{b}" for b in buckets]))}),
        "no-policy": make_user(iam, ctx.name("tr-none")),
        "explicit-deny": make_user(iam, ctx.name("tr-deny"), inline={"p": doc(
            allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:PutObject", "Resource": objects})}),
        "other-bucket": make_user(iam, ctx.name("tr-other"), inline={"p": doc(
            allow("s3:PutObject", f"arn:aws:s3:::{ctx.name('elsewhere')}/*"))}),
    }
    # The uploader whose credentials read (any keys read while moto does not enforce).
    return {"buckets": buckets, "account": DEFAULT_ACCOUNT, "users": users, "uploader": users["allowed"]}


def w_paths(ctx: Ctx) -> dict:
    """Both ways of reading a caller's policies: targeted reads, and the whole account's
    authorization details when targeted reads are refused. They must give the same evidence."""
    iam, s3 = ctx.m.client("iam"), ctx.m.client("s3")
    bucket = ctx.name("paths")
    s3.create_bucket(Bucket=bucket)
    objects = f"arn:aws:s3:::{bucket}/*"
    managed = iam.create_policy(PolicyName=ctx.name("paths-put"), PolicyDocument=doc(
        allow("s3:GetObject", objects)))["Policy"]["Arn"]
    # A second version, the default: the one that must be read.
    iam.create_policy_version(PolicyArn=managed, PolicyDocument=doc(allow("s3:PutObject", objects)),
                              SetAsDefault=True)
    boundary = iam.create_policy(PolicyName=ctx.name("paths-boundary"), PolicyDocument=doc(
        allow("s3:*", "*")))["Policy"]["Arn"]
    group_managed = iam.create_policy(PolicyName=ctx.name("paths-group"), PolicyDocument=doc(
        allow("s3:ListBucket", f"arn:aws:s3:::{bucket}")))["Policy"]["Arn"]
    group = ctx.name("paths-group")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="group-inline", PolicyDocument=doc(
        allow("s3:PutObjectTagging", objects)))
    iam.attach_group_policy(GroupName=group, PolicyArn=group_managed)
    # moto 5.2.5 keeps no user's permissions boundary (CreateUser ignores it, and it has no
    # PutUserPermissionsBoundary): only the role has one.
    user = make_user(iam, ctx.name("paths-user"), inline={"user-inline": doc(
        allow("s3:PutObject", objects))}, managed=[managed], groups=[group],
        Tags=[{"Key": "team", "Value": "uploads"}])
    role = ctx.name("paths-role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary,
                    Tags=[{"Key": "team", "Value": "uploads"}])
    iam.put_role_policy(RoleName=role, PolicyName="role-inline", PolicyDocument=doc(
        allow("s3:PutObject", objects)))
    iam.attach_role_policy(RoleName=role, PolicyArn=managed)
    targeted = make_user(iam, ctx.name("paths-reader"), inline={"reads": READS})
    fallback = make_user(iam, ctx.name("paths-fallback"),
                         inline={"reads": READS, "no-targeted": NO_TARGETED})
    return {"bucket": bucket, "key": KEY, "account": DEFAULT_ACCOUNT, "user": user,
            "role_session": f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/{role}/paths",
            "targeted_reader": targeted, "fallback_reader": fallback}


TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole"})


def scale_account(tag: str, roles: int) -> str:
    """An account of its own for each tag and size (12 digits, not moto's default)."""
    return "7" + f"{zlib.crc32(f'{tag}/{roles}'.encode()) % 10**11:011d}"


def unsigned_iam(ep: str, account: str, calls: list[dict]) -> None:
    """Many IAM calls on one connection, without boto3 (whose per-call cost is twice moto's):
    moto does not check signatures until --auth, and takes the account from a header."""
    url = urllib.parse.urlsplit(ep)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": "iam.amazonaws.com",
               "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/"
                                "aws4_request, SignedHeaders=host, Signature=0",
               "x-moto-account-id": account}
    for c in calls:
        body = urllib.parse.urlencode({**c, "Version": "2010-05-08"})
        conn.request("POST", "/", body, headers)
        r = conn.getresponse()
        answer = r.read()
        if r.status != 200:
            sys.exit(f"world.py: {c['Action']} answered {r.status}: {answer[:300]!r}")
    conn.close()


FILLER_DOC = doc(allow("s3:GetObject", "arn:aws:s3:::why403-filler/*"))


def unsigned_filler(ep: str, account: str, roles: int, policies: int) -> None:
    """Filler roles and policies through the server, without boto3."""
    unsigned_iam(ep, account, [
        {"Action": "CreatePolicy", "PolicyName": f"filler-{i}", "PolicyDocument": FILLER_DOC}
        for i in range(policies)])
    unsigned_iam(ep, account, [
        {"Action": "CreateRole", "RoleName": f"filler-{i}", "AssumeRolePolicyDocument": TRUST}
        for i in range(roles)])


def w_scale(ctx: Ctx, roles: int, policies: int, filler=None) -> dict:
    """`filler(account, roles, policies)` makes the filler (tests/moto/scale.py makes it in
    moto's own process, which is many times faster)."""
    if roles < 1 or policies < 2:
        sys.exit("world.py: the scale world needs --roles 1 or more and --policies 2 or more")
    account = scale_account(ctx.tag, roles)
    iam, s3 = ctx.m.client("iam", account=account), ctx.m.client("s3", account=account)
    bucket = ctx.name(f"scale{roles}")
    s3.create_bucket(Bucket=bucket)
    objects = f"arn:aws:s3:::{bucket}/*"
    t0 = time.monotonic()
    if filler is None:
        unsigned_filler(ctx.m.ep, account, roles - 1, policies - 2)
    else:
        filler(account, roles - 1, policies - 2)
    seconds = time.monotonic() - t0
    managed = iam.create_policy(PolicyName=ctx.name("scale-put"), PolicyDocument=doc(
        allow("s3:PutObject", objects)))["Policy"]["Arn"]
    boundary = iam.create_policy(PolicyName=ctx.name("scale-boundary"), PolicyDocument=doc(
        allow("s3:*", "*")))["Policy"]["Arn"]
    role = ctx.name("scale-uploader")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    iam.put_role_policy(RoleName=role, PolicyName="tagging", PolicyDocument=doc(
        allow("s3:PutObjectTagging", objects)))
    iam.attach_role_policy(RoleName=role, PolicyArn=managed)
    # Readers for --auth (without it, any keys read): one may read IAM, one is refused the
    # targeted reads (and falls back to the authorization details).
    reader = make_user(iam, ctx.name(f"scale{roles}-reader"), inline={"reads": READS})
    fallback = make_user(iam, ctx.name(f"scale{roles}-fallback"),
                         inline={"reads": READS, "no-targeted": NO_TARGETED})
    return {"bucket": bucket, "key": KEY, "account": account, "roles": roles,
            "policies": policies, "filler_seconds": round(seconds, 1),
            "uploader": f"arn:aws:sts::{account}:assumed-role/{role}/scale", "reader": reader,
            "fallback_reader": fallback}


BUILDERS = {"triage": w_triage, "identity": w_identity, "kms": w_kms, "bucket-policy": w_bucket_policy, "acl": w_acl,
            "scp": w_scp, "allowed": w_allowed, "truth": w_truth, "partial": w_partial,
            "paths": w_paths}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--tag", required=True, help="lower-case letters and digits, in every name")
    ap.add_argument("--worlds", default=",".join(ALL_SHARED))
    ap.add_argument("--auth", action="store_true", help="turn moto's enforcement on at the end")
    ap.add_argument("--wait", type=float, default=0, help="wait this long for the server first")
    ap.add_argument("--roles", type=int, default=10, help="roles of the scale world's account")
    ap.add_argument("--policies", type=int, default=10,
                    help="customer managed policies of the scale world's account")
    a = ap.parse_args()
    m = Moto(a.endpoint)
    if a.wait:
        m.wait(a.wait)
    ctx = Ctx(m, a.tag)
    out = {"endpoint": m.ep, "region": REGION, "tag": a.tag, "worlds": {}}
    for name in [w for w in a.worlds.split(",") if w]:
        if name == "scale":
            out["worlds"][name] = w_scale(ctx, a.roles, a.policies)
            continue
        if name not in BUILDERS:
            sys.exit(f"world.py: unknown world `{name}` (known: {', '.join(BUILDERS)}, scale)")
        out["worlds"][name] = BUILDERS[name](ctx)
    if a.auth:
        m.post("/moto-api/reset-auth", b"0")
        out["auth"] = True
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
