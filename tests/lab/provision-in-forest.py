#!/usr/bin/python3
# `samba-tool domain provision`, but the new domain lives in an existing forest: its configuration and schema
# naming contexts get the forest root's DNs, so its rootDSE reads like a child-domain DC's
# (rootDomainNamingContext = the root's DN). Samba 4.17 can neither create nor join a child domain; this is the
# lab's stand-in (see samba-dc.sh, "forest").
#
# Usage: WBW_FOREST_ROOT_DN=DC=forest,DC=example,DC=test provision-in-forest.py <samba-tool domain provision args>
import os
import signal
import sys
import tempfile

signal.signal(signal.SIGINT, signal.SIG_DFL)

import samba.netcmd.domain as domain_cmd
import samba.provision as provision_mod

ROOT_DN = os.environ["WBW_FOREST_ROOT_DN"]

_provision = domain_cmd.provision


def provision_in_forest(*args, **kwargs):
    kwargs["rootdn"] = ROOT_DN
    kwargs["configdn"] = "CN=Configuration," + ROOT_DN
    kwargs["schemadn"] = "CN=Schema,CN=Configuration," + ROOT_DN
    return _provision(*args, **kwargs)


domain_cmd.provision = provision_in_forest

# Samba 4.17's provision_configuration.ldif puts some ForestUpdates operations below
# "CN=Configuration,${DOMAINDN}", which only exists when the domain is the forest root: use a mended copy.
_setup_path = provision_mod.setup_path
_mended = tempfile.TemporaryDirectory(prefix="wbw-provision-")


def setup_path(name):
    path = _setup_path(name)
    if name != "provision_configuration.ldif":
        return path
    with open(path, encoding="utf-8") as f:
        text = f.read().replace(",CN=Configuration,${DOMAINDN}\n", ",${CONFIGDN}\n")
    mended = os.path.join(_mended.name, name)
    with open(mended, "w", encoding="utf-8") as f:
        f.write(text)
    return mended


provision_mod.setup_path = setup_path

from samba.netcmd.main import cmd_sambatool  # noqa: E402

cmd = cmd_sambatool()
try:
    rc = cmd._run("samba-tool", "domain", "provision", *sys.argv[1:])
except SystemExit as e:
    rc = e.code
except Exception as e:  # samba-tool's own way of printing a failed command
    cmd.show_command_error(e)
    rc = 1
sys.exit(rc)
