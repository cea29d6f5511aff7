// SPDX-License-Identifier: GPL-2.0
/*
 * wavtool - the audio half of the kernel-path test.
 *
 *   wavtool gen FILE HZ SECONDS RATE [SILENCE]
 *                                      a 16-bit stereo sine for aplay,
 *                                      then SILENCE seconds of silence
 *   wavtool check FILE HZ...           what QEMU's wav audiodev recorded
 *   wavtool timeline FILE HZ...        the same, with where each tone's
 *                                      stretch and each glitch lie
 *
 * check finds each tone by its zero crossings (upward, with hysteresis, so
 * silence and noise make none) and reports, per tone, how long it played
 * and its glitches: a crossing interval more than 3 % away from the tone's
 * period between two intervals that are on it.  A dropped, repeated or
 * stale stretch of audio shifts the phase of a sine, and silence stretches
 * one interval, so each shows as a glitch; "gap" sums how far the odd
 * intervals strayed, in ms.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TONES 8

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int gen(const char *path, double hz, double seconds, unsigned rate,
	       double silence)
{
	unsigned tone = seconds * rate, frames = tone + silence * rate, i;
	unsigned char h[44];
	FILE *f = fopen(path, "wb");

	if (!f) {
		perror(path);
		return 1;
	}
	memcpy(h, "RIFF", 4); put32(h + 4, 36 + frames * 4);
	memcpy(h + 8, "WAVEfmt ", 8); put32(h + 16, 16);
	h[20] = 1; h[21] = 0; h[22] = 2; h[23] = 0;	/* PCM, stereo */
	put32(h + 24, rate); put32(h + 28, rate * 4);
	h[32] = 4; h[33] = 0; h[34] = 16; h[35] = 0;
	memcpy(h + 36, "data", 4); put32(h + 40, frames * 4);
	fwrite(h, 1, 44, f);
	for (i = 0; i < frames; i++) {
		int16_t s = i < tone ? 16000 * sin(2 * M_PI * hz * i / rate) : 0;
		unsigned char b[4] = { s & 0xff, (s >> 8) & 0xff, s & 0xff, (s >> 8) & 0xff };

		fwrite(b, 1, 4, f);
	}
	return fclose(f) ? 1 : 0;
}

struct tone {
	double hz, period;
	long intervals, glitches;
	double gap_ms;
};

/* A stretch of one tone ended at sample position @end: printed for the
 * timeline (where a glitch or an unexpected stretch of a tone lies). */
static void stretch(const struct tone *t, double start, double end, unsigned rate)
{
	printf("  %8.3f s - %8.3f s: %.0f Hz (%.3f s)\n", start / rate, end / rate,
	       t->hz, (end - start) / rate);
}

static int check(const char *path, int ntones, char **hz, int timeline)
{
	struct tone t[MAX_TONES] = { 0 };
	unsigned char *buf;
	long size, off = 12, data = -1, dlen = 0, n, i;
	unsigned rate = 0, channels = 0, bits = 0;
	double last = -1, odd_sum = 0, run_start = 0;
	int prev_cls = -1, odd = 0, armed = 0, k;
	FILE *f = fopen(path, "rb");

	if (!f) {
		perror(path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc(size);
	if (!buf || fread(buf, 1, size, f) != (size_t)size || size < 44 ||
	    memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4)) {
		fprintf(stderr, "%s: not a WAV file\n", path);
		return 1;
	}
	fclose(f);
	while (off + 8 <= size) {
		uint32_t len = get32(buf + off + 4);

		if (!memcmp(buf + off, "fmt ", 4) && off + 24 <= size) {
			channels = buf[off + 10];
			rate = get32(buf + off + 12);
			bits = buf[off + 22];
		} else if (!memcmp(buf + off, "data", 4)) {
			data = off + 8;
			/* QEMU fills the sizes in at exit; trust the file. */
			dlen = size - data;
			break;
		}
		off += 8 + len + (len & 1);
	}
	if (data < 0 || bits != 16 || !channels || !rate) {
		fprintf(stderr, "%s: no 16-bit PCM data chunk\n", path);
		return 1;
	}
	for (k = 0; k < ntones && k < MAX_TONES; k++) {
		t[k].hz = atof(hz[k]);
		t[k].period = rate / t[k].hz;
	}
	n = dlen / (2 * channels);
	printf("wav: %u Hz, %u channels, %.2f s\n", rate, channels, (double)n / rate);
	for (i = 1; i < n; i++) {
		int16_t a = get32(buf + data + (i - 1) * 2 * channels) & 0xffff;
		int16_t b = get32(buf + data + i * 2 * channels) & 0xffff;
		double x, interval;
		int cls = -1;

		if (b < -2000)
			armed = 1;
		if (!armed || a >= 0 || b < 0)
			continue;
		armed = 0;
		x = i - 1 + (double)-a / (b - a);
		if (last >= 0) {
			interval = x - last;
			for (k = 0; k < ntones; k++)
				if (fabs(interval - t[k].period) < 0.03 * t[k].period)
					cls = k;
			if (cls < 0) {
				odd++;
				odd_sum += interval;
			} else {
				/* Odd intervals between two of the same tone: a
				 * glitch; between two tones: the change-over. */
				if (odd && prev_cls == cls) {
					t[cls].glitches++;
					if (odd_sum > t[cls].period)
						t[cls].gap_ms += (odd_sum - t[cls].period) * 1000.0 / rate;
					if (timeline)
						printf("  %8.3f s: glitch in %.0f Hz, %d odd interval(s) of %.1f ms\n",
						       (x - interval) / rate, t[cls].hz, odd,
						       odd_sum * 1000.0 / rate);
				}
				if (timeline && cls != prev_cls) {
					if (prev_cls >= 0)
						stretch(&t[prev_cls], run_start, last - odd_sum, rate);
					run_start = x - interval;
				}
				t[cls].intervals++;
				prev_cls = cls;
				odd = 0;
				odd_sum = 0;
			}
		}
		last = x;
	}
	if (timeline && prev_cls >= 0)
		stretch(&t[prev_cls], run_start, last, rate);
	for (k = 0; k < ntones; k++)
		printf("tone %.0f Hz: %.3f s, %ld glitches, gap %.1f ms\n", t[k].hz,
		       t[k].intervals / t[k].hz, t[k].glitches, t[k].gap_ms);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "gen"))
		return gen(argv[2], atof(argv[3]), atof(argv[4]), atoi(argv[5]),
			   argc == 7 ? atof(argv[6]) : 0);
	if (argc >= 4 && !strcmp(argv[1], "check"))
		return check(argv[2], argc - 3, argv + 3, 0);
	if (argc >= 4 && !strcmp(argv[1], "timeline"))
		return check(argv[2], argc - 3, argv + 3, 1);
	fprintf(stderr, "usage: wavtool gen FILE HZ SECONDS RATE [SILENCE] | check FILE HZ... | timeline FILE HZ...\n");
	return 2;
}
