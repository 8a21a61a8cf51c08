"""Commands of this group are registered on tumen.cli.common.app when imported."""
