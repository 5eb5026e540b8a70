/* log/internal.h — what log/'s own files share; not for other modules. */
#ifndef PARKLOG_LOG_INTERNAL_H
#define PARKLOG_LOG_INTERNAL_H

#include <stddef.h>

/* Format a message into err (nothing if err is NULL or errlen 0). */
void log__err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
