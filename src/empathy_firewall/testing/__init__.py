"""Test helpers shipped with the library: fake helpdesks and the connector conformance suite."""
