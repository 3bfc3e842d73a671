"""Load clients' data: files of every kind and platform exports, into one typed frame.

``load`` is the stage (what the pipeline calls); the other modules are the kinds of
source it reads. Kept free of imports: compile reads presets without loading polars.
"""
