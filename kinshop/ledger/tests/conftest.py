import pytest

from kinshop import testing


@pytest.fixture
def operator(db):
    # The project-wide fixture's username "op" is shorter than a username may be.
    return testing.make_operator("operator")
