"""Pure parsers for image headers: sniff the format, read dimensions and EXIF.

Every function here takes bytes that may be truncated or malformed (a prefix
of an image, or whatever a lying server sent) and never raises.
"""
