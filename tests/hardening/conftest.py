"""Hardening probes: hostile but realistic input, special files, interrupts, edit bursts.

Every subprocess here runs with a timeout, so a hang fails the test instead of blocking CI.
"""
