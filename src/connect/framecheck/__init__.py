"""Automated frame moderation: sampled video frames, a classifier, and what a hit does."""
