"""Homework 2: hidden checks and misconceptions (private to instructors)."""
