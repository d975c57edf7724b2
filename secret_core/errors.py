"""One exception type for bad user input, so entry points can print it as a single line."""


class SecretError(RuntimeError):
    """A problem the user can fix (missing file, bad config key, wrong layout).

    The message is one line that names the file or key and says what to do; entry points
    print it without a traceback.
    """
