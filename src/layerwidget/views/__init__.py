"""The explorer's bqplot views: thin classes that turn core results into marks, in place."""
