"""The domain rules: who a visitor is, how a visit is counted, who may do what (permissions,
claims), what a request's parameters and a view's dimensions may be, the backup file's format.
Imports the store below it, never the web layer."""
