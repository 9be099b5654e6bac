#!/usr/bin/env python3
"""Prints the polynomial coefficients of the kernels' exp and log1p (lib/loss_math.h).

Each polynomial is a Chebyshev fit (mpmath.chebyfit) in 50-digit arithmetic, rounded to the
nearest double; the fit's error bound is printed beside it. Needs mpmath (Debian:
python3-mpmath); the build does not run this script.

  exp(r), |r| <= ln(2)/2 (slightly widened):     degree 11
  P(x), x = s^2 <= ((sqrt 2 - 1)/(sqrt 2 + 1))^2: degree 6,
        where log((1 + s)/(1 - s)) = 2 s + 2 s x P(x)
"""
import mpmath as mp

mp.mp.dps = 50


def atanh_tail(x):
    """P(x) = (atanh(s)/s - 1)/x for x = s^2: 1/3 + x/5 + x^2/7 + ..."""
    if x == 0:
        return mp.mpf(1) / 3
    s = mp.sqrt(x)
    return (mp.atanh(s) / s - 1) / x


def show(name, f, lo, hi, degree):
    coeffs, err = mp.chebyfit(f, [lo, hi], degree + 1, error=True)
    coeffs = coeffs[::-1]  # lowest degree first
    print(f"{name}: degree {degree} on [{mp.nstr(lo, 8)}, {mp.nstr(hi, 8)}], "
          f"error {mp.nstr(err, 3)}")
    for k, c in enumerate(coeffs):
        print(f"  c{k} = {float(c)!r}")


def main():
    half_ln2 = mp.log(2) / 2 * (1 + mp.mpf(2) ** -20)
    show("exp(r)", mp.exp, -half_ln2, half_ln2, 11)
    s_max = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    show("P(x) of log1p", atanh_tail, mp.mpf(0), s_max ** 2, 6)


if __name__ == "__main__":
    main()
