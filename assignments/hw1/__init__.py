"""Homework 1: hidden checks and misconceptions (private to instructors)."""
