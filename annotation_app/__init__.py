"""The annotation app: experts write, review and publish evalkit suites in the browser.

Logic lives in plain modules (`models`, `db`, `services`, `i18n`) that the Streamlit pages in
`views/` call; `evalkit` never imports this package.
"""
