"""Documents of forums and meetings: uploads with versions, checked content, private storage.

``services`` checks and stores, ``sniff`` says what a file really is, ``storage`` keeps the bytes
(a folder or an S3-compatible bucket), ``queries`` lists them for pages, ``views`` serves them.
"""
