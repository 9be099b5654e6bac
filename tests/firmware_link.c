/*
 * A firmware program on the no-heap path, linked by scripts/ci/60-firmware.sh against the
 * arm-none-eabi library (never run): the linked image must contain no malloc, free or stdio.
 * It calls the API a device uses: a model and a stream in static buffers, steps, batch fit,
 * predictions, a saved model.
 */
#include "rill.h"
static double ws[4096];
static double sws[1024];
static unsigned char blob[8192];
int main(void)
{
    rill_model *m;
    rill_stream *s;
    size_t need, len;
    double x[4] = {1, 2, 3, 4}, y = 1, p;
    if (rill_model_workspace_size(RILL_LOGISTIC, 4, 2, &need) || need > sizeof ws)
        return 1;
    if (rill_model_init_static(&m, ws, sizeof ws, RILL_LOGISTIC, 4, 2))
        return 2;
    rill_step(m, x, &y, 1);
    rill_fit(m, x, &y, 1);
    rill_predict(m, x, 1, &p);
    rill_stream_workspace_size(m, 8, RILL_STREAM_PASS, &need);
    rill_stream_init_static(&s, sws, sizeof sws, m, 8, RILL_STREAM_PASS);
    rill_stream_push(s, x, &y, 1);
    rill_stream_flush(s);
    rill_stream_free(s);
    rill_model_save(m, blob, sizeof blob, &len);
    rill_model_free(m);
    return (int)p;
}
