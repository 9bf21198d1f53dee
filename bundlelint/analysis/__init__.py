"""Analyses: facts derived from the files of an input, computed once and shared by rules.

Parsers turn bytes into models; analyses go one step further and compare models with the
bytes they describe (hashing code pages, checking the resource seal, verifying a CMS chain).
They read files only through ``Bundle.open_entry`` and cache results with ``Bundle.memo``, so a
file is hashed once however many rules ask. Rules call analyses and read their frozen results.
"""
