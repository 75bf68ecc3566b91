"""The household register: households with their dated versions, placements, unavailable
places, the one rule for how places stand, and the register as a spreadsheet."""
