"""Publish domain: score tables to the CRM's targets, then the serving snapshot."""
