"""Static files storage: hashed and compressed names when collectstatic has run (the Docker
image), the plain names otherwise, so `make run` and the tests need no build step."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: WhiteNoise serves it from the app under its name
            return name
