"""Track cleaning and segmentation: positions → clean fixes → segments."""
