"""Relasi's date and number formats per language (settings.FORMAT_MODULE_PATH), over Django's own.

One format a language, used by every page: dates `28 Nov 2026`, date-times with their minutes always
(`28 Nov 2026, 23.00` in Indonesian, `28 Nov 2026, 23:00` in English), numbers grouped in thousands. What is
not set here (input formats, the first day of the week) stays Django's.
"""
